"""Failed questions grouped into topics by their words."""

import random
from collections import Counter

from insights import clustering

# Five topics a docs site might be missing, each asked in several phrasings with varying
# filler, as readers do. None of the topics shares its key words with another.
TOPICS = {
    "cypress": ["How do I record a Cypress video of failed specs?",
                "cypress video recording for failing specs",
                "Can Cypress keep a video when a spec fails?",
                "where do cypress videos of failures go",
                "make cypress record videos only for failed specs"],
    "kubernetes": ["How do I deploy this on Kubernetes with Helm?",
                   "is there a helm chart for kubernetes",
                   "kubernetes helm values for a deploy",
                   "Deploying to Kubernetes: which Helm chart?",
                   "helm install on kubernetes cluster"],
    "sso": ["Does it support SAML single sign-on?",
            "SAML SSO login with Okta",
            "how to configure single sign-on (SAML) with okta",
            "okta saml sso setup",
            "Can users log in with SAML SSO?"],
    "pricing": ["How much does the enterprise plan cost per seat?",
                "enterprise plan price per seat",
                "what is the seat price of the enterprise plan",
                "cost of enterprise seats",
                "Enterprise plan: price for 50 seats?"],
    "weather": ["What's the weather in Paris tomorrow?",
                "weather forecast Paris",
                "will it rain in Paris tomorrow, weather?",
                "Paris weather this weekend",
                "tomorrow's weather forecast"],
}


def test_generated_questions_land_with_their_topic():
    items = [(topic, q) for topic, questions in TOPICS.items() for q in questions]
    random.Random(7).shuffle(items)

    labels = clustering.cluster([q for _, q in items])

    # Each true topic is represented by the cluster most of its questions went to; a question
    # "lands with its topic" when it is in that cluster and the cluster belongs to no other topic.
    owner: dict[int, str] = {}
    landed = 0
    for topic in TOPICS:
        clusters = Counter(label for (t, _), label in zip(items, labels) if t == topic)
        cluster_id, count = clusters.most_common(1)[0]
        if cluster_id not in owner:
            owner[cluster_id] = topic
            landed += count
    assert landed / len(items) >= 0.8


def test_unrelated_questions_start_separate_topics():
    labels = clustering.cluster(["How do I bake sourdough bread?", "Configure SAML with Okta"])

    assert labels == [0, 1]


def test_label_names_the_topic_words_and_skips_parts_of_a_whole_identifier():
    centroid = clustering.Centroid()
    for text in ["jest.runAllTimers hangs", "runAllTimers hangs forever", "runAllTimers never returns"]:
        centroid.add(clustering.question_terms(text))

    label = clustering.label(centroid, clustering.uniform_weight)

    assert label.split(", ")[0] == "runalltimers"
    assert "timer" not in label.split(", ")


def test_a_question_with_no_words_joins_nothing():
    centroid = clustering.Centroid()
    centroid.add(clustering.question_terms("weather Paris"))

    assert clustering.best_topic(set(), [centroid], clustering.uniform_weight) is None
