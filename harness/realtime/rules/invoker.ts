/** Invokes a function through @aws-sdk/client-lambda and classifies the outcome the way a retrying caller needs it. */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { quietAwsSdkNodeWarning } from '../../lib/aws-sdk.ts';

export interface LambdaTarget {
  /** Absent: real AWS for the region. */
  endpoint?: string;
  region: string;
  /** Absent: the SDK's default credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export type InvokeOutcome =
  | { kind: 'ok'; requestId?: string; result?: unknown }
  | { kind: 'function-error' | 'throttled' | 'transport-error'; requestId?: string; error: string };

export class Invoker {
  private readonly client: LambdaClient;

  constructor(target: LambdaTarget) {
    quietAwsSdkNodeWarning();
    this.client = new LambdaClient({
      region: target.region,
      ...(target.endpoint ? { endpoint: target.endpoint } : {}),
      ...(target.credentials ? { credentials: target.credentials } : {}),
      // Retries belong to the delivery mode (AWS's schedule or the ordered backoff), not to the SDK.
      maxAttempts: 1,
      // The SDK otherwise rebuilds its middleware stack for every command, on the service's hot path.
      cacheMiddleware: true,
    });
  }

  async invoke(functionName: string, payload: unknown, type: 'RequestResponse' | 'Event'): Promise<InvokeOutcome> {
    try {
      const r = await this.client.send(
        new InvokeCommand({ FunctionName: functionName, InvocationType: type, Payload: new TextEncoder().encode(JSON.stringify(payload)) }),
      );
      const requestId = r.$metadata.requestId;
      const text = r.Payload && r.Payload.length > 0 ? new TextDecoder().decode(r.Payload) : '';
      const body = parse(text);
      if (r.FunctionError) {
        const e = body as { errorType?: string; errorMessage?: string } | undefined;
        return { kind: 'function-error', ...(requestId ? { requestId } : {}), error: `${e?.errorType ?? r.FunctionError}: ${e?.errorMessage ?? text}` };
      }
      return { kind: 'ok', ...(requestId ? { requestId } : {}), ...(body !== undefined ? { result: body } : {}) };
    } catch (err) {
      const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number; requestId?: string } };
      const requestId = e.$metadata?.requestId;
      const error = `${e.name ?? 'Error'}: ${e.message ?? String(err)}`;
      const throttled = e.name === 'TooManyRequestsException' || e.$metadata?.httpStatusCode === 429;
      return { kind: throttled ? 'throttled' : 'transport-error', ...(requestId ? { requestId } : {}), error };
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}

function parse(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
