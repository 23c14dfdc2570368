import type { AppConfig } from './app-config.js';

/** Every secret value of a configuration, for rememberSecrets(): replaced wherever it shows up later. */
export function configSecrets(config: AppConfig): string[] {
  const secrets: Array<string | undefined> = [
    ...config.targets.map((t) => t.tokenValue),
    ...config.http.apiKeys.map((k) => k.secret),
    config.commandPolicy.approvalToken,
    config.commandPolicy.highRiskApprovalToken,
    config.ssh?.password,
    config.ssh?.keyPassphrase,
    config.jobs.databaseUrl,
    config.oauth?.introspection?.clientSecret,
  ];
  if (config.jobs.databaseUrl) {
    try {
      const password = decodeURIComponent(new URL(config.jobs.databaseUrl).password);
      secrets.push(password || undefined);
    } catch {
      // not a URL: the whole value is already listed
    }
  }
  return secrets.filter((s): s is string => typeof s === 'string' && s.length > 0);
}
