package gitx

import (
	"net/url"
	"strings"
)

// CompareURL is the web page that compares branch head with branch base of
// the repository at remoteURL, where a pull or merge request is opened:
// GitHub and Gitea/Forgejo /compare/<base>...<head>, GitLab
// /-/compare/<base>...<head>, Bitbucket Cloud /branches/compare/<head>%0D<base>,
// Bitbucket Server (/scm/ clone paths) /projects/P/repos/R/compare/commits,
// Azure DevOps /branchCompare. Hosts are told apart as CommitURL does; ""
// when the remote has no web host (a local path).
func CompareURL(remoteURL, base, head string) string {
	scheme, host, p := webBase(remoteURL)
	if host == "" || p == "" || base == "" || head == "" {
		return ""
	}
	root := scheme + "://" + host
	repo := root + "/" + p
	lh := strings.ToLower(host)
	switch {
	case strings.Contains(lh, "gitlab"):
		return repo + "/-/compare/" + base + "..." + head
	case lh == "bitbucket.org":
		return repo + "/branches/compare/" + url.PathEscape(head) + "%0D" + url.PathEscape(base)
	case strings.HasPrefix(p, "scm/") && strings.Count(p, "/") == 2:
		parts := strings.Split(p, "/")
		q := url.Values{"sourceBranch": {"refs/heads/" + head}, "targetBranch": {"refs/heads/" + base}}
		return root + "/projects/" + strings.ToUpper(parts[1]) + "/repos/" + parts[2] + "/compare/commits?" + q.Encode()
	case strings.Contains(lh, "bitbucket"):
		return repo + "/branches/compare/" + url.PathEscape(head) + "%0D" + url.PathEscape(base)
	case lh == "dev.azure.com" && strings.Contains(p, "/_git/"):
		q := url.Values{"baseVersion": {"GB" + base}, "targetVersion": {"GB" + head}}
		return repo + "/branchCompare?" + q.Encode()
	default:
		return repo + "/compare/" + base + "..." + head
	}
}
