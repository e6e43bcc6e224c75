/**
 * An attacker is an ordinary signed-in user of the chat: a session cookie from the login
 * endpoint and TokenRequests from the token endpoint, the same capability every user gets.
 */
import * as Ably from 'ably';

export interface ChatUrls {
  loginUrl: string;
  tokenUrl: string;
}

export class AttackerSession {
  private constructor(
    readonly clientId: string,
    private readonly urls: ChatUrls,
    private readonly cookie: string,
  ) {}

  static async signIn(urls: ChatUrls, clientId: string): Promise<AttackerSession> {
    const res = await fetch(urls.loginUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: clientId }) });
    if (!res.ok) throw new Error(`sign-in of ${clientId} failed: HTTP ${res.status}`);
    const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    return new AttackerSession(clientId, urls, cookie);
  }

  async tokenRequest(): Promise<Ably.TokenRequest> {
    const r = await fetch(this.urls.tokenUrl, { headers: { cookie: this.cookie } });
    if (!r.ok) throw new Error(`token endpoint answered HTTP ${r.status}`);
    return (await r.json()) as Ably.TokenRequest;
  }

  /** Client options that authenticate as this user, as the web app's SDK client does. */
  auth(): Pick<Ably.ClientOptions, 'authCallback'> {
    return {
      authCallback: (_params, cb) => {
        this.tokenRequest().then((r) => cb(null, r), (err: unknown) => cb(String(err), null));
      },
    };
  }

  /** A token string for a raw protocol connection (`access_token=`), exchanged with the realtime service. */
  async token(realtime: Ably.ClientOptions): Promise<Ably.TokenDetails> {
    // A kept-alive socket the service closed as it was reused fails the request (ECONNRESET); the SDK does not retry it.
    for (let attempt = 1; ; attempt++) {
      try {
        const req = await this.tokenRequest();
        const rest = new Ably.Rest({ ...realtime, authCallback: (_p, cb) => cb(null, req), logLevel: 0 });
        return await rest.auth.requestToken();
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
  }
}
