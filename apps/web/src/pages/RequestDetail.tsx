// The request page lives in ./request/, a file per section; App.tsx imports it from here.
export { RequestPage } from './request/RequestPage.tsx';
export { ProposalView } from './request/Team.tsx';
