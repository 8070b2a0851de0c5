using System.Collections.Frozen;

namespace Voxon.Analytics;

/// <summary>The word lists behind the offline text analysis (topics, sentiment, formality, technical level).
/// Small and English-only on purpose: the point is a deterministic, cheap estimate, not linguistics.</summary>
internal static class Lexicon
{
    /// <summary>Function words and conversational filler that never make a topic.</summary>
    public static readonly FrozenSet<string> StopWords = Set(
        "a an the and or but if then else so than that this these those there here what which who whom whose when where why how " +
        "i me my mine myself we us our ours you your yours he him his she her hers it its they them their theirs " +
        "am is are was were be been being have has had having do does did doing done will would shall should can could may might must " +
        "of in on at by for with about against between into through during before after above below to from up down out off over under " +
        "again further once all any both each few more most other some such no nor not only own same too very just also even still " +
        "as until while because though although whether either neither yet ever every much many lot lots " +
        "s t d ll m re ve y don didn doesn isn aren wasn weren won wouldn couldn shouldn can't cannot " +
        "tell explain know think want wanted like need please thanks thank really get got make made help talk talking say said " +
        "mean means something anything everything nothing thing things stuff way ways yes yeah yep okay ok hey hello hi bye " +
        "today tomorrow yesterday now later soon maybe perhaps actually basically kind sort bit little let lets go going gonna wanna " +
        "one two three first second new old good great bad well right sure also tell give show look see use used using find try " +
        "lately recently currently often usually always sometimes already quite rather pretty probably definitely exactly especially simply " +
        "question questions answer answers idea ideas time times day days work works example examples part parts " +
        "name names call called interested interest interests remember");

    /// <summary>Words that negate the sentiment of the next few words.</summary>
    public static readonly FrozenSet<string> Negators = Set(
        "not no never nothing hardly barely neither nor without don't doesn't didn't isn't wasn't aren't weren't can't couldn't won't wouldn't shouldn't");

    /// <summary>Words that say the user is pleased.</summary>
    public static readonly FrozenSet<string> Positive = Set(
        "good great excellent perfect awesome amazing helpful useful clear love loved nice wonderful fantastic brilliant " +
        "thanks thank appreciate appreciated happy glad works worked solved fixed superb cool outstanding enjoy enjoyed pleased satisfied");

    /// <summary>Words that say the user is displeased.</summary>
    public static readonly FrozenSet<string> Negative = Set(
        "bad wrong useless terrible awful hate hated confusing confused annoying annoyed frustrating frustrated unhelpful poor " +
        "horrible disappointed disappointing broken worse worst stupid incorrect fail failed failing slow unclear pointless angry upset");

    /// <summary>Markers of a formal register.</summary>
    public static readonly FrozenSet<string> Formal = Set(
        "please would could kindly regarding therefore however furthermore moreover additionally consequently nevertheless " +
        "appreciate grateful sincerely assist assistance require request inquire elaborate clarify provide shall may whom " +
        "thank regards certainly indeed accordingly subsequently concerning");

    /// <summary>Markers of a casual register.</summary>
    public static readonly FrozenSet<string> Informal = Set(
        "hey hi yo sup yeah yep yup nope nah gonna wanna gotta kinda sorta lol lmao omg haha hahaha cool awesome dude bro guys " +
        "ok okay thx u ur btw stuff y'all ain't ya cuz wow yay ugh meh");

    /// <summary>Domain vocabulary that marks a technically fluent user (science, engineering, computing, mathematics).</summary>
    public static readonly FrozenSet<string> Technical = Set(
        "algorithm algorithms api apis database databases latency throughput kubernetes docker compiler compilers runtime async thread threads " +
        "concurrency regression gradient gradients neural tensor tensors matrix matrices eigenvalue eigenvalues eigenstate eigenstates derivative " +
        "derivatives integral integrals equation equations theorem theorems quantum entanglement superposition hamiltonian wavefunction photon " +
        "photons electron electrons relativity spacetime thermodynamics entropy protocol protocols encryption cryptography hash hashing bandwidth " +
        "server servers kernel architecture polymorphism recursion complexity asymptotic statistical variance covariance bayesian probability " +
        "genome protein proteins molecule molecules enzyme enzymes isotope isotopes voltage impedance frequency amplitude oscillation momentum " +
        "velocity acceleration vector vectors scalar topology manifold differential microservice microservices deployment configuration parameter " +
        "parameters optimization heuristic inference dataset datasets embedding embeddings transformer transformers schema query queries sql " +
        "http tcp cpu gpu operator operators decoherence qubit qubits hilbert fermion boson lagrangian stochastic eigenvector orthogonal " +
        "linear nonlinear logarithmic polynomial interface serialization deserialization endpoint middleware cache caching mutex semaphore");

    /// <summary>Whether a lower-cased token may be part of a topic phrase.</summary>
    public static bool IsContentWord(string word) =>
        word.Length >= 3
        && !StopWords.Contains(word)
        && !Positive.Contains(word)
        && !Negative.Contains(word)
        && !Informal.Contains(word)
        && !Formal.Contains(word)
        && !word.Contains('\'')
        && !word.All(char.IsAsciiDigit);

    private static FrozenSet<string> Set(string words) =>
        words.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToFrozenSet(StringComparer.Ordinal);
}
