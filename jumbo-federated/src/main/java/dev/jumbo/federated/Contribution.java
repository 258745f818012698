package dev.jumbo.federated;

/** One client's accepted update for a round: its (encoded) delta and how many examples it trained on. */
public record Contribution(String clientId, long examples, float[] vector) {}
