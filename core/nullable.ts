import { Type, type TSchema } from '@sinclair/typebox';

/** A schema that also admits null (a figure with no data yet). One definition for the route schemas and
 * the signal contract, which must not depend on the service layer. */
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
