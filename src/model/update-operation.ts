// One stored run of one updater: the set of vulnerability records a feed held at that time.
export interface UpdateOperation {
  /** UUID. */
  ref: string;
  updater: string;
  fingerprint: string;
  /** ISO 8601. */
  date: string;
  /** Number of records in the operation. */
  count: number;
}
