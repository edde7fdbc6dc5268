package dev.calicopolicy.agent.run;

import dev.calicopolicy.agent.etcd.EtcdFailure;
import io.grpc.Status;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Waits for the answers of etcd requests, one at a time: each for a little longer than the request
 * deadline the client gives it, and no longer once {@link #cancel()} was called, so that a stop
 * does not wait for an etcd that does not answer.
 */
final class EtcdCalls {
    /** Beyond the request deadline, time for the client to report that it passed. */
    private static final long GRACE_MILLIS = 2000;

    private final long deadlineMillis;
    private final long timeoutMillis;
    private volatile CompletableFuture<?> inFlight;
    private volatile boolean cancelled;

    EtcdCalls(Duration requestTimeout) {
        this.deadlineMillis = requestTimeout.toMillis();
        this.timeoutMillis = deadlineMillis + GRACE_MILLIS;
    }

    /**
     * The answer to a request.
     *
     * @param what what the request does, for the message: {@code read /calico-policy/hosts/h1/}
     * @throws IOException if etcd fails the request or does not answer in time, or on cancel
     */
    <T> T await(CompletableFuture<T> request, String what) throws IOException {
        inFlight = request;
        if (cancelled) {
            request.cancel(true);
        }
        try {
            return request.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (Status.fromThrowable(e).getCode() == Status.Code.DEADLINE_EXCEEDED) {
                // The client waits for a connection until the deadline, and then says so at
                // length; the length of the wait is what matters.
                throw new IOException(
                        "cannot " + what + ": etcd did not answer within " + deadlineMillis + " ms",
                        e);
            }
            throw new IOException("cannot " + what + ": " + EtcdFailure.describe(e), e);
        } catch (TimeoutException e) {
            request.cancel(true);
            throw new IOException(
                    "cannot " + what + ": etcd did not answer within " + timeoutMillis + " ms", e);
        } catch (CancellationException e) {
            throw new IOException("cannot " + what + ": stopping", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            request.cancel(true);
            throw new IOException("cannot " + what + ": interrupted", e);
        } finally {
            inFlight = null;
        }
    }

    /** Fails the request waited for now, and every later one. */
    void cancel() {
        cancelled = true;
        CompletableFuture<?> request = inFlight;
        if (request != null) {
            request.cancel(true);
        }
    }
}
