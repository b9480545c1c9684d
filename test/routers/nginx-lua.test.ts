import { runRouterContract } from './contract.js';
import { startNginxHarness } from '../support/daemons/nginx.js';

runRouterContract('nginx (lua mode)', () => startNginxHarness({ mode: 'lua' }));
