// Exit codes of every command (the README's table): 0 success (scan: nothing meets --fail-on), 1 scan found
// something that meets --fail-on, 2 error, 3 scan: nothing meets --fail-on but a feed covering the image is older
// than --max-feed-age (or has no data): the clean verdict cannot be trusted.
export const EXIT_OK = 0;
export const EXIT_FOUND = 1;
export const EXIT_ERROR = 2;
export const EXIT_STALE = 3;
