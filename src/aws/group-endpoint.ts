/**
 * What a slot of the aws-asg platform is to the routers that attach Auto Scaling groups
 * (group-attachment-router.ts): kept apart from them so the router folders' capabilities, read
 * by config validation, import no AWS client.
 */

/** The endpoint kind these routers route to: a slot of the aws-asg platform. */
export const AUTO_SCALING_GROUP_ENDPOINT = 'aws-asg';
/** Endpoint detail `members` of a slot that is a set of instances tagged in a shared group. */
export const TAGGED_INSTANCES = 'tagged-instances';
