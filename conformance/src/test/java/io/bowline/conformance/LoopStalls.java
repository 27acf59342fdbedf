package io.bowline.conformance;

/**
 * What bowline's worker loops recorded in Envoy's dispatcher stats ({@code enable_dispatcher_stats}), summed over the
 * workers: iterations, and those that ran over 30 and over 60 ms (the histograms' bounds around 50 ms); timed polls,
 * and those that woke over 30 and 60 ms late.
 */
record LoopStalls(long iterations, long iterationsOver30ms, long iterationsOver60ms, long polls, long pollsOver30ms,
    long pollsOver60ms) {

  static LoopStalls read(BowlineProcess bowline) throws Exception {
    // only these stats: rendering a 10,000-cluster config's every stat would itself allocate enough to stall requests
    String prom = bowline.get("/stats/prometheus?filter=dispatcher").body();
    long[] loop = histogram(prom, "envoy_listener_manager_dispatcher_loop_duration_us");
    long[] poll = histogram(prom, "envoy_listener_manager_dispatcher_poll_delay_us");
    return new LoopStalls(loop[0], loop[0] - loop[1], loop[0] - loop[2], poll[0], poll[0] - poll[1],
        poll[0] - poll[2]);
  }

  /** {count, samples at or under 30,000 µs, at or under 60,000 µs}, over every worker. */
  private static long[] histogram(String prom, String name) {
    long[] out = new long[3];
    for (String line : prom.split("\n")) {
      long v = line.startsWith(name) ? (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)) : 0;
      if (line.startsWith(name + "_count{")) {
        out[0] += v;
      } else if (line.startsWith(name + "_bucket{") && line.contains("le=\"30000\"")) {
        out[1] += v;
      } else if (line.startsWith(name + "_bucket{") && line.contains("le=\"60000\"")) {
        out[2] += v;
      }
    }
    return out;
  }

  LoopStalls minus(LoopStalls before) {
    return new LoopStalls(iterations - before.iterations, iterationsOver30ms - before.iterationsOver30ms,
        iterationsOver60ms - before.iterationsOver60ms, polls - before.polls, pollsOver30ms - before.pollsOver30ms,
        pollsOver60ms - before.pollsOver60ms);
  }

  @Override
  public String toString() {
    return iterations + " iterations (" + iterationsOver30ms + " over 30 ms, " + iterationsOver60ms + " over 60 ms), "
        + polls + " timed polls (" + pollsOver30ms + " woke over 30 ms late, " + pollsOver60ms + " over 60 ms)";
  }
}
