package dev.calicopolicy.agent.publish;

/**
 * How far a publish has come.
 *
 * @param transactions the transactions committed so far
 * @param plannedTransactions the transactions the publish expects in all
 * @param keys the keys of the bundle and host files written or deleted so far
 * @param plannedKeys the keys to write or delete in all
 * @param revision etcd's revision after the last transaction
 */
public record PublishProgress(
        int transactions, int plannedTransactions, int keys, int plannedKeys, long revision) {}
