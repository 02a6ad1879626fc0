/** A setting the process cannot start with; its message is `NAME: reason`. */
export class ConfigError extends Error {
  override name = "ConfigError";
}
