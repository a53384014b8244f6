package main

import (
	"context"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/im"
	"github.com/roundshq/rounds/marketplace"
	pluginhttp "github.com/roundshq/rounds/plugins/httpapi"
)

// commandChat lets the slash-command route ask chat whether a person may act
// in a conversation: chat's own check for reading it (a member, or refused).
type commandChat struct{ im *im.Service }

var _ pluginhttp.CommandChat = commandChat{}

func (c commandChat) CheckMember(ctx context.Context, a core.Actor, conversationID string) error {
	_, err := c.im.Conversation(ctx, a, conversationID)
	return err
}

// commandApps is the app center as the slash-command route sees it: the
// installs shown to the person (enabled, visible to them).
type commandApps struct{ mp *marketplace.Service }

var _ pluginhttp.CommandApps = commandApps{}

func (c commandApps) VisibleInstalls(ctx context.Context, a core.Actor) ([]string, error) {
	apps, err := c.mp.MyApps(ctx, a)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(apps))
	for _, app := range apps {
		ids = append(ids, app.InstallID)
	}
	return ids, nil
}
