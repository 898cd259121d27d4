package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// fakeDocker answers as a daemon in a given state would.
type fakeDocker struct {
	pingErr error
	present map[string]bool
	pullErr error
	asked   []string
}

func (f *fakeDocker) ping(context.Context) error { f.asked = append(f.asked, "ping"); return f.pingErr }
func (f *fakeDocker) imagePresent(_ context.Context, image string) bool {
	f.asked = append(f.asked, "inspect "+image)
	return f.present[image]
}
func (f *fakeDocker) pullable(_ context.Context, image string) error {
	f.asked = append(f.asked, "distribution "+image)
	return f.pullErr
}

func TestChoose(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		env        map[string]string
		docker     fakeDocker
		wantKind   ChoiceKind
		wantImage  string
		wantReason string
		wantAsked  string
	}{
		{"URL", map[string]string{"TEST_DATABASE_URL": "postgres://u:secret@db/x", "TEST_POSTGRES_IMAGE": "img"}, fakeDocker{},
			FromURL, "", "TEST_DATABASE_URL is set", ""},
		{"ContainerPresent", map[string]string{"TEST_POSTGRES_IMAGE": "graphd-ci/postgres:15"}, fakeDocker{present: map[string]bool{"graphd-ci/postgres:15": true}},
			FromContainer, "graphd-ci/postgres:15", "the image is present", "ping,inspect graphd-ci/postgres:15"},
		{"ContainerPullableDefaultImage", nil, fakeDocker{},
			FromContainer, DefaultImage, "the image can be pulled", "ping,inspect " + DefaultImage + ",distribution " + DefaultImage},
		{"EmbeddedNoDocker", nil, fakeDocker{pingErr: errors.New("Cannot connect to the Docker daemon\nmore")},
			FromEmbedded, "", "Docker does not answer: Cannot connect to the Docker daemon", "ping"},
		{"EmbeddedNotPullable", map[string]string{"TEST_POSTGRES_IMAGE": "postgres:99"}, fakeDocker{pullErr: errors.New("dial tcp: lookup registry-1.docker.io: no such host")},
			FromEmbedded, "", "postgres:99 is not present and cannot be pulled: dial tcp", "ping,inspect postgres:99,distribution postgres:99"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := tc.docker
			got := choose(t.Context(), func(k string) string { return tc.env[k] }, &d)
			if got.Kind != tc.wantKind || got.Image != tc.wantImage || !strings.Contains(got.Reason, tc.wantReason) {
				t.Errorf("choose = %+v, want kind %d, image %q, reason containing %q", got, tc.wantKind, tc.wantImage, tc.wantReason)
			}
			if asked := strings.Join(d.asked, ","); asked != tc.wantAsked {
				t.Errorf("asked Docker %q, want %q", asked, tc.wantAsked)
			}
			if s := got.String(); strings.Contains(s, "secret") || strings.Contains(s, "\n") || !strings.Contains(s, got.Reason) {
				t.Errorf("String() = %q: want one line with the reason and no password", s)
			}
		})
	}
}
