-- 0006_directory: the reference data the `nearest` node ranks. Loaded or
-- replaced as a whole by `katto import` (one transaction per import), and
-- seeded from db/data/ when empty. The server keeps a read-only copy in memory
-- and reloads it when directory_imports gains a row.
CREATE TABLE postal_codes (
    postal_code  TEXT PRIMARY KEY,  -- five digits
    name_fi      TEXT NOT NULL,     -- area name (Kallio) or post office name
    name_sv      TEXT NOT NULL,
    municipality TEXT NOT NULL,     -- Finnish name
    lat          REAL,              -- WGS84; NULL when the source has no point
    lon          REAL
) STRICT, WITHOUT ROWID;

CREATE TABLE services (
    id             TEXT PRIMARY KEY,  -- [a-z0-9-], stable: the contact log refers to it
    name_fi        TEXT,
    name_sv        TEXT,
    name_en        TEXT,
    organization   TEXT,
    city           TEXT NOT NULL,     -- Finnish municipality name, or 'national'
    category       TEXT NOT NULL,     -- see directory.h
    street_address TEXT,              -- NULL when unknown or hidden
    postal_code    TEXT,
    lat            REAL,              -- an exact point when the source gives one; else
    lon            REAL,              -- the postal code's point is used at load time
    phone          TEXT,              -- as printed by the source; NULL: none verified
    phone_e164     TEXT,
    hours          TEXT,              -- compact format (hours.h); NULL: not known
    hours_text     TEXT,              -- the source's own words
    address_hidden INTEGER NOT NULL DEFAULT 0 CHECK (address_hidden IN (0, 1)),
    source_url     TEXT NOT NULL,
    checked_on     TEXT,              -- YYYY, YYYY-MM or YYYY-MM-DD: last checked against the source
    notes          TEXT
) STRICT, WITHOUT ROWID;
CREATE INDEX services_city_category ON services (city, category);

CREATE TABLE directory_imports (
    id     INTEGER PRIMARY KEY,
    kind   TEXT NOT NULL,     -- postal_codes | services
    at     INTEGER NOT NULL,  -- unix seconds
    source TEXT NOT NULL,     -- file or directory name
    rows   INTEGER NOT NULL
) STRICT;
