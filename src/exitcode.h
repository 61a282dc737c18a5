/* exitcode.h: process exit statuses (sysexits.h values), listed in the README. */
#ifndef KATTO_EXITCODE_H
#define KATTO_EXITCODE_H

#include <stdlib.h>

#define EXIT_USAGE 64     /* bad command line */
#define EXIT_DATAERR 65   /* invalid input data, such as a broken flow file */
#define EXIT_CANTCREAT 73 /* an output file cannot be created (katto backup: it exists) */
#define EXIT_NOPERM 77    /* refused: katto serve as root without --allow-root */
#define EXIT_CONFIG 78    /* bad configuration */

#endif
