/**
 * The catch-up read-back of the contract, reading pages from this origin's history endpoint.
 * (The bounds are re-exported so the tests can size their data to them.)
 */
import { CATCH_UP_MAX_PAGES, CATCH_UP_PAGE, readBack as readBackWith, type FetchPage, type ReadBack } from '../../../contract/index.ts';
import { fetchHistory } from './api.ts';

export { CATCH_UP_MAX_PAGES, CATCH_UP_PAGE, type ReadBack };

export function readBack(room: string, oldestShown: string | null, fetchPage: FetchPage = fetchHistory): Promise<ReadBack> {
  return readBackWith(room, oldestShown, fetchPage);
}
