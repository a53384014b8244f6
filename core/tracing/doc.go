// Package tracing holds Rounds' optional OpenTelemetry traces: a tracer
// provider that batches spans and sends them over OTLP/HTTP (protobuf) to a
// collector on the hospital network, and the HTTP middleware that opens one
// server span per request and continues a trace whose W3C traceparent a
// reverse proxy sent.
//
// Off by default: with no endpoint the provider is OpenTelemetry's no-op one
// and the middleware passes requests straight through.
//
// What a span may carry: route patterns (never a filled-in path or a query),
// methods, status codes, error codes, organisation ids and request ids. Never
// a person's name, login, IP address, message text or form content: traces
// leave the server for a collector that the clinical data protections do not
// cover.
//
// Guarantees: export is asynchronous and bounded. A slow or unreachable
// collector never blocks or fails a request: spans wait in a bounded queue and
// are dropped when it is full; the first failed export is logged once, and a
// later success is logged once. Shutdown flushes what is queued, within the
// caller's deadline.
//
// The provider is never made OpenTelemetry's global one: the composition root
// hands it to the parts that make spans (core/sqldb, this middleware), so
// several nodes in one process (the tests) keep their traces apart.
package tracing
