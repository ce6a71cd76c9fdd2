// Package vadtest makes test signals for voice detectors: noise with a synthetic voiced
// sound whose position is known, so that tests need no recordings.
package vadtest
