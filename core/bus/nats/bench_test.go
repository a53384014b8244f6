package natsbus_test

import (
	"testing"

	"github.com/roundshq/rounds/core/bus"
	"github.com/roundshq/rounds/core/bus/bustest"
	natsbus "github.com/roundshq/rounds/core/bus/nats"
)

func BenchmarkPublish(b *testing.B) {
	url := bustest.Require(b, "ROUNDS_TEST_NATS")
	bustest.BenchmarkPublish(b, func(b *testing.B) bus.Bus {
		nb, err := natsbus.Connect(url, natsbus.Options{Prefix: prefixFor(b), QueueSize: 1 << 16})
		if err != nil {
			b.Fatal(err)
		}
		waitReady(b, nb)
		return nb
	})
}
