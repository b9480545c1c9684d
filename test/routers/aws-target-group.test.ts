import { runEndpointRouterContract } from './endpoint-contract.js';
import { startAwsRouterHarness } from './aws-router-harness.js';

runEndpointRouterContract('aws-target-group', () => startAwsRouterHarness('aws-target-group'));
