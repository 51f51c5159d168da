export { retrain, statusQuery } from './retrain';
