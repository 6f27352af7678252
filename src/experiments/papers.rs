//! The papers the lab draws on, one table: each room's [`super::RoomInfo`] names its papers by
//! key, and the page's About panel, the rooms' reading lists and the gallery render from here.

/// One paper (or package) and what the lab takes from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paper {
    /// How rooms refer to it (`ainsworth2023`).
    pub key: &'static str,
    /// The authors as cited (`S. K. Ainsworth, J. Hayase, S. Srinivasa`).
    pub authors: &'static str,
    /// Its title.
    pub title: &'static str,
    /// Where and when (`ICLR 2023`).
    pub venue: &'static str,
    /// Its address.
    pub link: &'static str,
    /// What the lab takes from it, in a phrase.
    pub takes: &'static str,
}

impl Paper {
    /// Its year: the last number in `venue`.
    pub fn year(&self) -> Option<u32> {
        self.venue
            .split(|c: char| !c.is_ascii_digit())
            .rev()
            .find_map(|w| (w.len() == 4).then(|| w.parse().ok()).flatten())
    }

    /// The short citation prose uses: the first author's surname, "et al." for more than two
    /// authors, and the year (`Ainsworth et al. 2023`).
    pub fn short(&self) -> String {
        let surname = |a: &str| a.split_whitespace().last().unwrap_or(a).to_string();
        let authors: Vec<&str> = self.authors.split(", ").collect();
        let who = match authors.as_slice() {
            [one] => surname(one),
            [a, b] => format!("{} & {}", surname(a), surname(b)),
            [a, ..] => format!("{} et al.", surname(a)),
            [] => String::new(),
        };
        match self.year() {
            Some(year) => format!("{who} {year}"),
            None => who,
        }
    }
}

/// The paper with key `key` (`None` for an unknown key: a test checks every room's keys).
pub fn paper(key: &str) -> Option<&'static Paper> {
    PAPERS.iter().find(|p| p.key == key)
}

/// Every paper, by subject.
pub const PAPERS: &[Paper] = &[
    Paper {
        key: "smilkov2016",
        authors: "D. Smilkov, S. Carter",
        title: "TensorFlow Playground",
        venue: "2016",
        link: "https://playground.tensorflow.org",
        takes: "the 2-D data sets and the view of every hidden unit",
    },
    Paper {
        key: "yang2021",
        authors: "G. Yang, E. J. Hu",
        title: "Feature Learning in Infinite-Width Neural Networks",
        venue: "ICML 2021",
        link: "https://arxiv.org/abs/2011.14522",
        takes: "abc-parametrizations, SP / NTK / muP / mean field, and which limit each has (Theorem 3.3)",
    },
    Paper {
        key: "jacot2018",
        authors: "A. Jacot, F. Gabriel, C. Hongler",
        title: "Neural Tangent Kernel",
        venue: "NeurIPS 2018",
        link: "https://arxiv.org/abs/1806.07572",
        takes: "the NTK, its infinite-width limit, and why wide NTK-parametrized networks barely move their features",
    },
    Paper {
        key: "yang2022",
        authors: "G. Yang, E. J. Hu, I. Babuschkin, S. Sidor, X. Liu, D. Farhi, N. Ryder, J. Pachocki, W. Chen, J. Gao",
        title: "Tensor Programs V: Tuning Large Neural Networks via Zero-Shot Hyperparameter Transfer",
        venue: "2022",
        link: "https://arxiv.org/abs/2203.03466",
        takes: "muP for Adam, and learning rates that transfer across widths",
    },
    Paper {
        key: "mup",
        authors: "G. Yang, E. J. Hu, et al.",
        title: "mup: maximal update parametrization",
        venue: "2022",
        link: "https://github.com/microsoft/mup",
        takes: "the coordinate check",
    },
    Paper {
        key: "novak2020",
        authors: "R. Novak, L. Xiao, J. Hron, J. Lee, A. A. Alemi, J. Sohl-Dickstein, S. S. Schoenholz",
        title: "Neural Tangents: Fast and Easy Infinite Neural Networks in Python",
        venue: "ICLR 2020",
        link: "https://arxiv.org/abs/1912.02803",
        takes: "the kernel conventions the analytic NNGP and NTK follow",
    },
    Paper {
        key: "lee2018",
        authors: "J. Lee, Y. Bahri, R. Novak, S. S. Schoenholz, J. Pennington, J. Sohl-Dickstein",
        title: "Deep Neural Networks as Gaussian Processes",
        venue: "ICLR 2018",
        link: "https://arxiv.org/abs/1711.00165",
        takes: "the NNGP recursion",
    },
    Paper {
        key: "lee2019",
        authors: "J. Lee, L. Xiao, S. S. Schoenholz, Y. Bahri, R. Novak, J. Sohl-Dickstein, J. Pennington",
        title: "Wide Neural Networks of Any Depth Evolve as Linear Models Under Gradient Descent",
        venue: "NeurIPS 2019",
        link: "https://arxiv.org/abs/1902.06720",
        takes: "training in function space against the linearized network and the NTK-GP",
    },
    Paper {
        key: "roberts2022",
        authors: "D. A. Roberts, S. Yaida, B. Hanin",
        title: "The Principles of Deep Learning Theory",
        venue: "Cambridge University Press 2022",
        link: "https://arxiv.org/abs/2106.10165",
        takes: "nearly-Gaussian networks, the four-point vertex, criticality and the optimal aspect ratio",
    },
    Paper {
        key: "hanin2020",
        authors: "B. Hanin, M. Nica",
        title: "Finite Depth and Width Corrections to the Neural Tangent Kernel",
        venue: "ICLR 2020",
        link: "https://arxiv.org/abs/1909.05989",
        takes: "NTK fluctuations exponential in L/n",
    },
    Paper {
        key: "poole2016",
        authors: "B. Poole, S. Lahiri, M. Raghu, J. Sohl-Dickstein, S. Ganguli",
        title: "Exponential expressivity in deep neural networks through transient chaos",
        venue: "NeurIPS 2016",
        link: "https://arxiv.org/abs/1606.05340",
        takes: "the order-to-chaos phase diagram",
    },
    Paper {
        key: "schoenholz2017",
        authors: "S. S. Schoenholz, J. Gilmer, S. Ganguli, J. Sohl-Dickstein",
        title: "Deep Information Propagation",
        venue: "ICLR 2017",
        link: "https://arxiv.org/abs/1611.01232",
        takes: "depth scales of signal propagation, diverging at criticality",
    },
    Paper {
        key: "papyan2020",
        authors: "V. Papyan, X. Y. Han, D. L. Donoho",
        title: "Prevalence of neural collapse during the terminal phase of deep learning training",
        venue: "PNAS 2020",
        link: "https://arxiv.org/abs/2008.08186",
        takes: "NC1-NC4",
    },
    Paper {
        key: "zhu2021",
        authors: "Z. Zhu, T. Ding, J. Zhou, X. Li, C. You, J. Sulam, Q. Qu",
        title: "A Geometric Analysis of Neural Collapse with Unconstrained Features",
        venue: "NeurIPS 2021",
        link: "https://arxiv.org/abs/2105.02375",
        takes: "the unconstrained features model",
    },
    Paper {
        key: "dang2023",
        authors: "H. Dang, T. Tran, S. Osher, H. Tran-The, N. Ho, T. Nguyen",
        title: "Neural Collapse in Deep Linear Networks: From Balanced to Imbalanced Data",
        venue: "ICML 2023",
        link: "https://arxiv.org/abs/2301.00437",
        takes: "the closed form of imbalanced MSE and minority collapse",
    },
    Paper {
        key: "frankle2020",
        authors: "J. Frankle, G. K. Dziugaite, D. M. Roy, M. Carbin",
        title: "Linear Mode Connectivity and the Lottery Ticket Hypothesis",
        venue: "ICML 2020",
        link: "https://arxiv.org/abs/1912.05671",
        takes: "instability analysis, spawning, the error barrier",
    },
    Paper {
        key: "entezari2022",
        authors: "R. Entezari, H. Sedghi, O. Saukh, B. Neyshabur",
        title: "The Role of Permutation Invariance in Linear Mode Connectivity of Neural Networks",
        venue: "ICLR 2022",
        link: "https://arxiv.org/abs/2110.06296",
        takes: "the conjecture that barriers vanish modulo permutations",
    },
    Paper {
        key: "ainsworth2023",
        authors: "S. K. Ainsworth, J. Hayase, S. Srinivasa",
        title: "Git Re-Basin: Merging Models modulo Permutation Symmetries",
        venue: "ICLR 2023",
        link: "https://arxiv.org/abs/2209.04836",
        takes: "weight and activation matching, the loss barrier",
    },
    Paper {
        key: "ito2024",
        authors: "A. Ito, M. Yamada, A. Kumagai",
        title: "Analysis of Linear Mode Connectivity via Permutation-Based Weight Matching",
        venue: "2024",
        link: "https://arxiv.org/abs/2402.04051",
        takes: "permutations align singular vectors and keep singular values",
    },
    Paper {
        key: "li2018landscape",
        authors: "H. Li, Z. Xu, G. Taylor, C. Studer, T. Goldstein",
        title: "Visualizing the Loss Landscape of Neural Nets",
        venue: "NeurIPS 2018",
        link: "https://arxiv.org/abs/1712.09913",
        takes: "filter-normalized directions, trajectories on PCA planes",
    },
    Paper {
        key: "yao2020",
        authors: "Z. Yao, A. Gholami, K. Keutzer, M. W. Mahoney",
        title: "PyHessian: Neural Networks Through the Lens of the Hessian",
        venue: "2020",
        link: "https://arxiv.org/abs/1912.07145",
        takes: "top eigenvalues by Lanczos, Hutchinson's trace, the spectral density, per layer",
    },
    Paper {
        key: "ghorbani2019",
        authors: "B. Ghorbani, S. Krishnan, Y. Xiao",
        title: "An Investigation into Neural Net Optimization via Hessian Eigenvalue Density",
        venue: "ICML 2019",
        link: "https://arxiv.org/abs/1901.10159",
        takes: "stochastic Lanczos quadrature, the bulk and the outliers",
    },
    Paper {
        key: "cohen2021",
        authors: "J. M. Cohen, S. Kaur, Y. Li, J. Z. Kolter, A. Talwalkar",
        title: "Gradient Descent on Neural Networks Typically Occurs at the Edge of Stability",
        venue: "ICLR 2021",
        link: "https://arxiv.org/abs/2103.00065",
        takes: "progressive sharpening up to 2/η",
    },
    Paper {
        key: "li2018intrinsic",
        authors: "C. Li, H. Farkhoor, R. Liu, J. Yosinski",
        title: "Measuring the Intrinsic Dimension of Objective Landscapes",
        venue: "ICLR 2018",
        link: "https://arxiv.org/abs/1804.08838",
        takes: "training in random subspaces, d_int90",
    },
    Paper {
        key: "pearlmutter1994",
        authors: "B. A. Pearlmutter",
        title: "Fast Exact Multiplication by the Hessian",
        venue: "Neural Computation 1994",
        link: "https://doi.org/10.1162/neco.1994.6.1.147",
        takes: "Hessian-vector products at the cost of a few gradients",
    },
];
