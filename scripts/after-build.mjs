// What tsc does not do: the dashboard's files beside the compiled admin routes, and the `beia`
// command executable, so `./dist/cli/index.js` runs after a local build as after an install.
import { chmodSync, cpSync } from 'node:fs';

cpSync('src/mock/admin/ui', 'dist/mock/admin/ui', { recursive: true });
chmodSync('dist/cli/index.js', 0o755);
