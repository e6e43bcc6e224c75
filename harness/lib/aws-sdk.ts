/**
 * The AWS SDK prints a multi-line NodeVersionSupportWarning on every run under Node 20. The
 * README says it once; here it is silenced through the SDK's own switch unless the user set that
 * switch themselves (`AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false` brings it back).
 * Call before the first client is constructed: the SDK checks when it builds its runtime config.
 */
export function quietAwsSdkNodeWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
