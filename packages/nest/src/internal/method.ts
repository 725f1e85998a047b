/** A class method as decorators see it. */
export type Method = (this: unknown, ...args: unknown[]) => unknown

interface MetadataApi {
  getOwnMetadataKeys?(target: object): unknown[]
  getOwnMetadata?(key: unknown, target: object): unknown
  defineMetadata?(key: unknown, value: unknown, target: object): void
}

/**
 * Put `wrapper` in the place of the decorated method, keeping its name and
 * the metadata decorators applied before this one (`@Get()` written above)
 * left on the original.
 */
export function replaceMethod(descriptor: PropertyDescriptor, original: Method, wrapper: Method): void {
  const api = Reflect as unknown as MetadataApi
  if (api.getOwnMetadataKeys && api.getOwnMetadata && api.defineMetadata) {
    for (const key of api.getOwnMetadataKeys(original))
      api.defineMetadata(key, api.getOwnMetadata(key, original), wrapper)
  }
  Object.defineProperty(wrapper, 'name', { value: original.name, configurable: true })
  descriptor.value = wrapper
}
