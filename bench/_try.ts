import { benchNotifier } from './notifier.ts';
console.log(JSON.stringify(await benchNotifier(), null, 1));
