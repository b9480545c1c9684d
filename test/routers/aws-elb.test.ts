import { runEndpointRouterContract } from './endpoint-contract.js';
import { startAwsRouterHarness } from './aws-router-harness.js';

runEndpointRouterContract('aws-elb', () => startAwsRouterHarness('aws-elb'));
