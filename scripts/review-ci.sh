#!/usr/bin/env bash
# The job of .github/workflows/review.yml, runnable anywhere (tests run it on a temporary
# repository): validate the ateliers a pull request changes (GitHub annotations), write the
# French review summary to the job summary and to one pull-request comment kept up to date,
# and build draft PDFs for the reviewers.
#
#   BASE_REF             the pull request's base branch (origin/$BASE_REF is compared)
#   OUT_DIR              where review.md and brouillons/*.pdf go (default review-out)
#   ATELIER              the atelier command (default: atelier on PATH)
#   GITHUB_STEP_SUMMARY  set by GitHub Actions; the summary is appended to it
#   GH_TOKEN, REPO, PR_NUMBER   with the gh CLI: post or update the comment; skipped without them
set -uo pipefail

ATELIER=${ATELIER:-atelier}
BASE=origin/${BASE_REF:?"BASE_REF manquant : la branche de base de la demande de fusion"}
OUT=${OUT_DIR:-review-out}
MARKER='<!-- atelier-review -->'
status=0
mkdir -p "$OUT/brouillons"

list=$("$ATELIER" review --base "$BASE" --list) || exit 2
slugs=()
while IFS= read -r slug; do
    [ -n "$slug" ] && slugs+=("$slug")
done <<< "$list"
folders=()
for slug in "${slugs[@]}"; do
    [ -f "data/$slug/atelier.yaml" ] && folders+=("data/$slug")
done
invalid=()
for folder in "${folders[@]}"; do
    # One folder per call: the annotations (at most 10 per step) go to the worst first.
    if ! "$ATELIER" validate --format github "$folder"; then
        invalid+=("$folder")
        status=1
    fi
done

"$ATELIER" review --base "$BASE" --output "$OUT/review.md" || exit 2
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    cat "$OUT/review.md" >> "$GITHUB_STEP_SUMMARY"
fi

if [ -n "${GH_TOKEN:-}" ] && [ -n "${PR_NUMBER:-}" ] && [ -n "${REPO:-}" ] && command -v gh >/dev/null 2>&1; then
    # Our previous comment: written by the Actions bot and starting with the hidden marker
    # (anyone can type the marker, but only the bot's own comment can be edited by it).
    comment=$(gh api "repos/$REPO/issues/$PR_NUMBER/comments" --paginate \
        --jq ".[] | select(.user.login == \"github-actions[bot]\" and (.body | startswith(\"$MARKER\"))) | .id" | head -n 1)
    if [ -n "$comment" ]; then
        gh api --method PATCH "repos/$REPO/issues/comments/$comment" -F "body=@$OUT/review.md" > /dev/null \
            || echo "::warning::Le commentaire de revue n'a pas pu être mis à jour."
    else
        gh api --method POST "repos/$REPO/issues/$PR_NUMBER/comments" -F "body=@$OUT/review.md" > /dev/null \
            || echo "::warning::Le commentaire de revue n'a pas pu être publié (demande venant d'un fork ?)."
    fi
fi

for folder in "${folders[@]}"; do
    case " ${invalid[*]} " in *" $folder "*) continue ;; esac  # invalid data has no draft
    slug=$(basename "$folder")
    "$ATELIER" build "$folder" --draft -o "$OUT/brouillons/compte-rendu-$slug-brouillon.pdf" || status=1
done
exit $status
