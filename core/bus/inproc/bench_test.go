package inproc_test

import (
	"testing"

	"github.com/roundshq/rounds/core/bus"
	"github.com/roundshq/rounds/core/bus/bustest"
	"github.com/roundshq/rounds/core/bus/inproc"
)

func BenchmarkPublish(b *testing.B) {
	bustest.BenchmarkPublish(b, func(b *testing.B) bus.Bus { return inproc.New(inproc.WithQueueSize(1 << 16)) })
}
