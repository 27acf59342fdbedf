package io.bowline.core.filter;

/** What a filter hook tells the chain: go on to the next filter, or wait until the filter continues the stream. */
public enum FilterStatus { CONTINUE, STOP_ITERATION }
