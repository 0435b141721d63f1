// The schema version migrations.ts brings a database to (its list's length; migrations.ts checks the two agree when
// it loads). Opening a database already there reads this, not the list: the list's function migrations import the
// record, pack and package-index code, which a warm scan does not otherwise load.
export const SCHEMA_VERSION = 14;
