/*
 * The TypeScript client: openapi-fetch over the types openapi-typescript
 * generates from api/openapi.yaml into schema.gen.ts (`make sdk`), plus the
 * error envelope as typed exceptions.
 *
 * Nothing here names a path or a schema field: every request and answer is
 * typed by `paths`, so the client follows the spec with no hand edits. The
 * one assumption is the project's error envelope, components.schemas.Error.
 *
 *   const api = createApiClient("http://127.0.0.1:8080");
 *   const user = await unwrap(api.POST("/users", { body: { username: "alice42", email: "a@example.com" } }));
 */
import createClient from "openapi-fetch";
import type { Client, ClientOptions } from "openapi-fetch";
import type { components, paths } from "./schema.gen.js";

export type { components, operations, paths } from "./schema.gen.js";
export type Schemas = components["schemas"];
/** The body of every error answer. */
export type ErrorEnvelope = components["schemas"]["Error"];
export type ErrorCode = ErrorEnvelope["error"]["code"];
export type ApiClient = Client<paths>;

/** A client for baseUrl (e.g. "http://127.0.0.1:8080"); options go to openapi-fetch. */
export function createApiClient(baseUrl: string, options: Omit<ClientOptions, "baseUrl"> = {}): ApiClient {
    return createClient<paths>({ ...options, baseUrl: baseUrl.replace(/\/+$/, "") });
}

/** An error answer: the HTTP status and the envelope, when the body was one. */
export class ApiError extends Error {
    readonly status: number;
    readonly envelope: ErrorEnvelope | undefined;
    readonly requestId: string | undefined;

    constructor(status: number, envelope: ErrorEnvelope | undefined, requestId: string | undefined) {
        super(envelope ? `${status} ${envelope.error.code}: ${envelope.error.message}` : `status ${status}`);
        this.name = new.target.name;
        this.status = status;
        this.envelope = envelope;
        this.requestId = requestId;
    }

    /** The envelope's code, e.g. "NOT_FOUND" (undefined when the body was not an envelope). */
    get code(): ErrorCode | undefined {
        return this.envelope?.error.code;
    }

    get details(): ErrorEnvelope["error"]["details"] {
        return this.envelope?.error.details ?? [];
    }
}

export class BadRequestError extends ApiError {}
export class NotFoundError extends ApiError {}
export class MethodNotAllowedError extends ApiError {}
export class ConflictError extends ApiError {}
export class PayloadTooLargeError extends ApiError {}
export class UnsupportedMediaTypeError extends ApiError {}
export class InternalServerError extends ApiError {}
export class ServiceUnavailableError extends ApiError {}
export class GatewayTimeoutError extends ApiError {}

const byStatus: Record<number, typeof ApiError> = {
    400: BadRequestError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    409: ConflictError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    500: InternalServerError,
    503: ServiceUnavailableError,
    504: GatewayTimeoutError,
};

/** Is v shaped like the envelope? (The server's answers are; a proxy's may not be.) */
export function isErrorEnvelope(v: unknown): v is ErrorEnvelope {
    if (typeof v !== "object" || v === null || !("error" in v)) return false;
    const e = (v as { error: unknown }).error;
    return typeof e === "object" && e !== null &&
        typeof (e as { code?: unknown }).code === "string" &&
        typeof (e as { message?: unknown }).message === "string" &&
        Array.isArray((e as { details?: unknown }).details);
}

/** The typed error for an error answer. */
export function errorFor(status: number, body: unknown, requestId?: string | null): ApiError {
    const Kind = byStatus[status] ?? ApiError;
    return new Kind(status, isErrorEnvelope(body) ? body : undefined, requestId ?? undefined);
}

/** The error of a raw fetch Response (for requests the typed client never sends). */
export async function errorFromResponse(response: Response): Promise<ApiError> {
    const text = await response.text();
    let body: unknown;
    try {
        body = JSON.parse(text);
    } catch {
        body = undefined;
    }
    return errorFor(response.status, body, response.headers.get("X-Request-ID"));
}

type Answer<D> = { data?: D; error?: unknown; response: Response };

/**
 * The data of a success answer, or a thrown ApiError subclass for an error
 * answer. For an operation without a success body (204) it resolves to
 * undefined.
 */
export async function unwrap<D>(call: Promise<Answer<D>>): Promise<D> {
    const { data, error, response } = await call;
    if (!response.ok) throw errorFor(response.status, error, response.headers.get("X-Request-ID"));
    return data as D;
}
