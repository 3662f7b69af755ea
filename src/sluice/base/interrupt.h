#pragma once
// Stopping a running job from the outside (SIGINT, SIGTERM): the first signal asks it
// to stop gracefully, the second to abort (docs/design/streams.md).
//
// Graceful: unbounded sources (a stream without end) end their input as if it had
// ended there; everything downstream drains as at any end of input (windows fire,
// sinks flush, Kafka offsets are committed). A job reading only bounded input (files)
// has no graceful middle: it is cancelled, and publishes nothing (files are written
// atomically). Abort: every worker stops at its next check.
namespace sluice {

/// Installs the handlers for SIGINT and SIGTERM (the CLI calls it once).
void InstallStopHandlers();
/// How many stop signals arrived (0, 1, 2 or more); async-signal-safe to update.
int StopSignals();
/// For tests and embedders: behaves as if a signal arrived.
void RequestStop();
/// A stream has stopped on the first signal: the job goes on (its later runs, a
/// script's next statements) as if none had come. A second signal is not forgotten.
void AcknowledgeStop();

}  // namespace sluice
