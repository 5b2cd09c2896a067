package gitx

import (
	"net/url"
	"strings"
)

// CommitURL is the web page of commit sha of the repository at remoteURL:
// GitHub and Gitea/Forgejo style /commit/<sha>, GitLab /-/commit/<sha>,
// Bitbucket Cloud /commits/<sha>, Bitbucket Server (/scm/ clone paths)
// /projects/P/repos/R/commits/<sha>, Azure DevOps /_git/ paths. Works for
// https, ssh:// and scp-like (git@host:org/repo.git) remotes; an unknown
// host gets https://host/path/commit/<sha>. "" when the remote has no host
// (a local path) or sha is empty.
func CommitURL(remoteURL, sha string) string {
	scheme, host, p := webBase(remoteURL)
	if host == "" || sha == "" || p == "" {
		return ""
	}
	base := scheme + "://" + host + "/" + p
	lh := strings.ToLower(host)
	switch {
	case strings.Contains(lh, "gitlab"):
		return base + "/-/commit/" + sha
	case lh == "bitbucket.org":
		return base + "/commits/" + sha
	case strings.HasPrefix(p, "scm/") && strings.Count(p, "/") == 2:
		parts := strings.Split(p, "/")
		return scheme + "://" + host + "/projects/" + strings.ToUpper(parts[1]) + "/repos/" + parts[2] + "/commits/" + sha
	case strings.Contains(lh, "bitbucket"):
		return base + "/commits/" + sha
	default:
		return base + "/commit/" + sha
	}
}

// webBase turns a clone URL into scheme, web host and repository path
// (without .git).
func webBase(raw string) (scheme, host, p string) {
	raw = strings.TrimSpace(raw)
	switch {
	case strings.Contains(raw, "://"):
		u, err := url.Parse(raw)
		if err != nil {
			return "", "", ""
		}
		scheme, host, p = u.Scheme, u.Host, u.Path
		switch scheme {
		case "http", "https":
		case "ssh", "git", "git+ssh", "ssh+git":
			scheme, host = "https", u.Hostname()
		default:
			return "", "", ""
		}
	default: // scp-like: [user@]host:path
		at := strings.LastIndex(raw[:max(strings.Index(raw, ":"), 0)], "@")
		colon := strings.Index(raw, ":")
		if colon <= 0 || strings.HasPrefix(raw, "/") {
			return "", "", ""
		}
		scheme, host, p = "https", raw[at+1:colon], raw[colon+1:]
	}
	p = strings.Trim(p, "/")
	p = strings.TrimSuffix(p, ".git")
	lh := strings.ToLower(host)
	switch {
	case lh == "ssh.dev.azure.com" || lh == "vs-ssh.visualstudio.com":
		// v3/org/project/repo -> dev.azure.com/org/project/_git/repo
		parts := strings.Split(strings.TrimPrefix(p, "v3/"), "/")
		if len(parts) == 3 {
			return "https", "dev.azure.com", parts[0] + "/" + parts[1] + "/_git/" + parts[2]
		}
	case strings.HasSuffix(lh, "dev.azure.com"):
		host = "dev.azure.com"
	}
	return scheme, host, p
}
