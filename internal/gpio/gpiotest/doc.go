// Package gpiotest provides fakes for code that uses package gpio: a Line that
// plays scripted edges and records the levels driven on it with their times, a
// Button that sends scripted events, and an LED that records patterns. The
// clock they take is clocktest.Clock. Nothing here touches /dev.
package gpiotest
