package dev.calicopolicy.agent.publish;

/**
 * Told what a publish is doing, for progress displays. A listener that throws stops the publish
 * where it is, as if the publisher had died: what was committed stays, and the next run completes
 * it.
 */
public interface PublishListener {
    /** A listener that does nothing. */
    PublishListener NONE = new PublishListener() {};

    /** The plan is made and nothing is written yet. */
    default void planned(PublishPlan plan) {}

    /** A transaction was committed. */
    default void committed(PublishProgress progress) {}
}
