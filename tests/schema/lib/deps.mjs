// The npm packages the checks use, loaded here so that a missing node_modules gives one clear
// message instead of a module-resolution stack trace. Bare specifiers resolve from this file's
// folder, so it is always tests/schema/node_modules that is used, whatever the working directory.

async function load(name) {
  try {
    return await import(name);
  } catch (error) {
    if (error.code === "ERR_MODULE_NOT_FOUND") {
      console.error(
        `schema tests: the npm package ${name} is missing; run scripts/install-deps.sh ` +
          "(or npm ci in tests/schema)",
      );
      process.exit(1);
    }
    throw error;
  }
}

const ajvModule = await load("ajv");
const formatsModule = await load("ajv-formats");

export const Ajv = ajvModule.default;
export const addFormats = formatsModule.default;
export const YAML = await load("yaml");

// Kubernetes models: validators that kubernetes-models generated from the API server's OpenAPI
// document and compiled with ajv ahead of time. Loaded lazily, one module per kind.
export async function importModel(specifier) {
  return import(specifier);
}
