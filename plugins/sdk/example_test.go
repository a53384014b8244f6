package sdk_test

import (
	"context"
	"fmt"

	"github.com/roundshq/rounds/plugins/sdk"
	"github.com/roundshq/rounds/plugins/sdk/sdktest"
)

// greeter answers messages in the conversations its bot is in.
type greeter struct{ host sdk.Host }

func (g *greeter) Activate(_ context.Context, host sdk.Host, _ sdk.Install) error {
	g.host = host
	return nil
}

func (g *greeter) OnMessagePosted(ctx context.Context, m sdk.Message) error {
	_, err := g.host.SendMessage(ctx, m.ConversationID, "收到: "+m.Text)
	return err
}

// An app's hooks run in a unit test against the in-memory host.
func Example() {
	host := sdktest.New(sdk.ScopeIMSend)
	host.Members["ward5"] = true
	app := &greeter{}
	_ = host.Activate(context.Background(), app)
	_ = app.OnMessagePosted(context.Background(), sdk.Message{ConversationID: "ward5", Text: "交班"})
	fmt.Println(host.Sent[0].Text)
	err := app.OnMessagePosted(context.Background(), sdk.Message{ConversationID: "icu", Text: "hi"})
	fmt.Println(sdk.ErrorCode(err))
	// Output:
	// 收到: 交班
	// forbidden
}

func ExampleParseManifest() {
	_, err := sdk.ParseManifest([]byte(`{"id":"daily-report","name":"日报","version":"1.0","publisher":"ISV",
		"min_server_version":"0.1.0","executable":"app","scopes":["im:send"],"hooks":[]}`))
	fmt.Println(err)
	// Output: invalid: version "1.0" is not a semantic version such as 1.2.0 (field version)
}
