#!/usr/bin/env bash
# The release job of .github/workflows/release.yml, runnable anywhere (tests run it against a
# temporary repository and a bare remote): publish the ateliers whose data changed, commit the
# new versions, push the commit and its tags, then one GitHub Release per new version.
#
#   BRANCH   branch to push to (required; the workflow passes the default branch)
#   REMOTE   remote to push to (default origin)
#   ATELIER  the atelier command (default: atelier on PATH)
#   GH_TOKEN with the gh CLI on PATH: create the GitHub Releases; without them, that step is skipped
set -euo pipefail

ATELIER=${ATELIER:-atelier}
REMOTE=${REMOTE:-origin}
BRANCH=${BRANCH:?"BRANCH manquant : la branche où pousser les versions (par exemple main)"}
NB=$'\u202f'  # espace fine insécable, before « : » in French

before=$(git rev-parse HEAD)
# Exit code 1 (invalid data) stops here: nothing was written, nothing is pushed.
"$ATELIER" release --commit --tag
after=$(git rev-parse HEAD)
if [ "$before" = "$after" ]; then
    echo "Aucune nouvelle version${NB}: rien à pousser."
    exit 0
fi

mapfile -t tags < <(git tag --points-at HEAD --list '*-v[0-9]*')
refs=("HEAD:refs/heads/$BRANCH")
for tag in "${tags[@]}"; do
    refs+=("refs/tags/$tag")
done
# Atomic: the commit and its tags land together or not at all.  If the branch moved meanwhile
# (a data merge during this run) the push is refused; that merge's own run publishes next.
git push --atomic "$REMOTE" "${refs[@]}"

if [ -z "${GH_TOKEN:-}" ] || ! command -v gh >/dev/null 2>&1; then
    echo "gh ou GH_TOKEN absent${NB}: pas de GitHub Release (étiquettes poussées${NB}: ${tags[*]})."
    exit 0
fi
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
for tag in "${tags[@]}"; do
    slug=${tag%-v*}
    version=${tag##*-v}
    asset="$workdir/compte-rendu-$slug-v$version.pdf"
    cp "reports/$slug/compte-rendu.pdf" "$asset"
    # The release notes are this version's section of the changelog.
    awk -v head="## Version $version " 'index($0, head) == 1 {on = 1; next} /^## / {on = 0} on' \
        "reports/$slug/CHANGELOG.md" > "$workdir/notes-$tag.md"
    gh release create "$tag" "$asset" --verify-tag \
        --title "Compte-rendu $slug — version $version" --notes-file "$workdir/notes-$tag.md"
done
