export * from './audit.ts';
export * from './common.ts';
export * from './framework.ts';
export * from './identity.ts';
export * from './parties.ts';
export * from './requests.ts';
