// Exit codes of every command: 0 success (scan: nothing at or above --fail-on), 1 scan found something, 2 error.
export const EXIT_OK = 0;
export const EXIT_FOUND = 1;
export const EXIT_ERROR = 2;
