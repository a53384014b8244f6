// Package imtest holds the contract suite every im.Store must pass (Run) and
// small test doubles for the messaging tests: a directory, an authorizer, a
// movable clock.
package imtest
