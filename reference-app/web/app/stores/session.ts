/**
 * Who is signed in. The session itself is an HttpOnly cookie the page cannot read, so the
 * token endpoint is the source of truth: it answers with a TokenRequest naming the clientId,
 * or 401.
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { fetchTokenRequest, login, logout } from '../lib/api.ts';

export const useSessionStore = defineStore('session', () => {
  const clientId = ref<string | null>(null);
  const checked = ref(false);
  const error = ref<string | null>(null);
  const busy = ref(false);

  /** Finds out (once per page load, unless forced) whether a session cookie is present. */
  async function check(force = false): Promise<string | null> {
    if (checked.value && !force) return clientId.value;
    try {
      const tokenRequest = await fetchTokenRequest();
      clientId.value = tokenRequest?.clientId ?? null;
      error.value = null;
    } catch (err) {
      clientId.value = null;
      error.value = err instanceof Error ? err.message : String(err);
    }
    checked.value = true;
    return clientId.value;
  }

  async function signIn(name: string): Promise<boolean> {
    busy.value = true;
    error.value = null;
    try {
      clientId.value = (await login(name)).clientId;
      checked.value = true;
      return true;
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err);
      return false;
    } finally {
      busy.value = false;
    }
  }

  /** The server ends the session before the page says so: the sign-in page means the cookie is dead. */
  async function signOut(): Promise<void> {
    await logout().catch(() => {});
    clientId.value = null;
  }

  /** The token endpoint said 401 mid-session (cookie expired or cleared). */
  function expired(): void {
    clientId.value = null;
    error.value = 'Your session has ended. Please sign in again.';
  }

  return { clientId, checked, error, busy, check, signIn, signOut, expired };
});
