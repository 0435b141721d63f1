import type { Ecosystem } from '../ecosystem.ts';
import { javaScanner } from './scanner.ts';

// Java: Maven artifacts in JAR/WAR/EAR/JPI/HPI archives and the archives nested in them.
export const java: Ecosystem = { name: 'java', scanners: [javaScanner], updaters: [], matchers: [] };
