package dev.calicopolicy.agent.etcd;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Gives every single-response call (get, put, transaction, lease grant) a deadline, so a request to
 * a cluster that cannot answer fails instead of waiting forever. Streams (watches, lease
 * keep-alives) run without one.
 */
final class RequestDeadline implements ClientInterceptor {
    private final long millis;

    RequestDeadline(Duration timeout) {
        this.millis = timeout.toMillis();
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(
            MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        if (method.getType() == MethodDescriptor.MethodType.UNARY
                && options.getDeadline() == null) {
            return next.newCall(method, options.withDeadlineAfter(millis, TimeUnit.MILLISECONDS));
        }
        return next.newCall(method, options);
    }
}
