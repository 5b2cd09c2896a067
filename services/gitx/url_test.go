package gitx_test

import (
	"testing"

	"github.com/gitopstui/gitopstui/services/gitx"
)

func TestCommitURL(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	for remote, want := range map[string]string{
		"https://github.com/org/repo.git":                       "https://github.com/org/repo/commit/" + sha,
		"https://github.com/org/repo":                           "https://github.com/org/repo/commit/" + sha,
		"https://x-access-token:secret@github.com/org/repo.git": "https://github.com/org/repo/commit/" + sha,
		"git@github.com:org/repo.git":                           "https://github.com/org/repo/commit/" + sha,
		"ssh://git@github.com/org/repo.git":                     "https://github.com/org/repo/commit/" + sha,
		"ssh://git@github.com:22/org/repo.git/":                 "https://github.com/org/repo/commit/" + sha,
		"https://gitlab.com/group/sub/repo.git":                 "https://gitlab.com/group/sub/repo/-/commit/" + sha,
		"git@gitlab.example.com:group/repo.git":                 "https://gitlab.example.com/group/repo/-/commit/" + sha,
		"https://gitea.example.com/org/repo.git":                "https://gitea.example.com/org/repo/commit/" + sha,
		"ssh://git@gitea.example.com:2222/org/repo.git":         "https://gitea.example.com/org/repo/commit/" + sha,
		"http://127.0.0.1:3000/org/repo.git":                    "http://127.0.0.1:3000/org/repo/commit/" + sha,
		"https://bitbucket.org/team/repo.git":                   "https://bitbucket.org/team/repo/commits/" + sha,
		"git@bitbucket.org:team/repo.git":                       "https://bitbucket.org/team/repo/commits/" + sha,
		"https://bitbucket.example.com/scm/proj/repo.git":       "https://bitbucket.example.com/projects/PROJ/repos/repo/commits/" + sha,
		"https://dev.azure.com/org/project/_git/repo":           "https://dev.azure.com/org/project/_git/repo/commit/" + sha,
		"git@ssh.dev.azure.com:v3/org/project/repo":             "https://dev.azure.com/org/project/_git/repo/commit/" + sha,
		"https://git.example.com/platform/fleet.git":            "https://git.example.com/platform/fleet/commit/" + sha,
		"deploy@git.example.com:platform/fleet.git":             "https://git.example.com/platform/fleet/commit/" + sha,
		"/srv/git/fleet.git":                                    "",
		"file:///srv/git/fleet.git":                             "",
		"":                                                      "",
	} {
		if got := gitx.CommitURL(remote, sha); got != want {
			t.Errorf("CommitURL(%q) = %q, want %q", remote, got, want)
		}
	}
	if got := gitx.CommitURL("https://github.com/org/repo.git", ""); got != "" {
		t.Errorf("empty sha: %q", got)
	}
}
