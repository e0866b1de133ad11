// The config's public surface; the modules beside this one are its parts.
export { configEnvVars } from './env.js';
export { configFileOf, loadConfig, redactConfig, tryLoadConfig, type ConfigResult, type LoadConfigOptions } from './load.js';
export { configSchema, MIN_GUARD_RETENTION_MS, type AppserviceConfig, type AutoJoinPolicy, type Config, type LogFormat, type LoginMethod } from './schema.js';
