// The deployment pages live in ./deployment/, one file per section; App.tsx imports them from here.
export { DeploymentPage } from './deployment/DeploymentPage.tsx';
export { PassPage } from './deployment/PassPage.tsx';
