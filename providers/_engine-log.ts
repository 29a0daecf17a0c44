/* eslint-disable @typescript-eslint/no-require-imports -- required when a provider runs, as the providers require their modules */
/**
 * The dynamic-provider host gets the engine's address as its first argument but connects no logger to it; without
 * this, `pulumi.log` in a provider's methods would print to the host's stdout, which `pulumi up` does not show.
 * The `Rollout` and `Placement` providers call it before they log.
 */
export function connectEngineLog(): void {
  const state = require('@pulumi/pulumi/runtime/state') as { getStore(): { settings: { options: { engineAddr?: string } } } };
  const options = state.getStore().settings.options;
  if (!options.engineAddr && process.argv[2] && /^[\w.:[\]-]+$/.test(process.argv[2])) options.engineAddr = process.argv[2];
}
